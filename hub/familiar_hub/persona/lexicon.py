"""Everyday words of Tamil and Hindi in their own script, with their English (pure, no model).

A question asked in Tamil or Hindi script about mail written in English shares no word with
it, and the packaged English embedder cannot place it. Names, places and loanwords still
sound alike across scripts ("செல்வம்" -> "selvam", ``language.SoundIndex``), but the
household words people ask about do not: "சாவி" is "key", "मात्रा" nothing like "dose". No
bilingual dictionary installs offline here (PyPI and Debian were searched), and neither
packaged model can translate one (asked, the 1.5B made "சாவி" "India", "மாத்திரை" "Month";
the multilingual E5 put "key" 51st among a store's words for "சாவி"). So the words of a home
— its rooms and things, food and kitchen, health, money and bills, family, school and work,
travel, days and festivals — are listed here by hand, a few hundred per language, each with
the English words mail uses for it. The store searches those too (``PersonaStore._forms``)
and the prompt glosses them (``language.gloss``); ``language.listed_english`` finds a
word's language by its script.

A word is found whole or, since Tamil adds its endings to the word ("மாத்திரைகள்", tablets;
"தீபாவளிக்கு", for Diwali), as the longest entry it starts with, within a few letters.
"""

from __future__ import annotations

import functools
import unicodedata

_TAMIL = """
சாவி key keys | பூட்டு lock | கதவு door | ஜன்னல் window | வீடு house home | அறை room
சமையலறை kitchen | குளியலறை bathroom | கழிவறை toilet | மாடி terrace upstairs | தோட்டம் garden
வாசல் gate entrance | சுவர் wall | கூரை roof | படிக்கட்டு stairs | லிஃப்ட் lift
கார் car | வண்டி vehicle car | பைக் bike | சைக்கிள் bicycle cycle | பேருந்து bus | பஸ் bus
ரயில் train | விமானம் flight flights | டிக்கெட் ticket tickets | பயணம் trip travel journey
ஊர் hometown village | கோயில் temple | கடை shop store | சந்தை market | பெட்ரோல் petrol
மருத்துவர் doctor | டாக்டர் doctor | மருத்துவமனை hospital | ஆஸ்பத்திரி hospital
மருந்து medicine medicines tablets | மாத்திரை tablets tablet medicine pills
ஊசி injection vaccine | தடுப்பூசி vaccine vaccination | காய்ச்சல் fever | சளி cold
இருமல் cough | வலி pain | ரத்த blood | இரத்த blood | அழுத்தம் pressure | சர்க்கரை sugar diabetes
நீரிழிவு diabetes | ஆரோக்கியம் health | உடல்நலம் health | பரிசோதனை checkup check test
பல்வலி toothache dentist | கண் eye eyes
பணம் money | காசு money cash | வங்கி bank | கட்டணம் fee fees charge bill | பில் bill
மின்சாரம் electricity | மின்கட்டணம் electricity bill | கரண்ட் electricity current
தண்ணீர் water | தண்ணி water | எரிவாயு gas | சிலிண்டர் cylinder gas | வாடகை rent
சம்பளம் salary | காப்பீடு insurance | இன்சூரன்ஸ் insurance | வரி tax | கடன் loan
வைப்பு deposit | சேமிப்பு savings | செலவு expense cost | விலை price cost
பள்ளி school | ஸ்கூல் school | தேர்வு exam test | பரீட்சை exam | வகுப்பு class
ஆசிரியர் teacher | வீட்டுப்பாடம் homework | கல்லூரி college | வேலை work job
அலுவலகம் office | ஆபீஸ் office | கூட்டம் meeting | மீட்டிங் meeting
பிறந்தநாள் birthday | பிறந்த birthday | கல்யாணம் wedding marriage | திருமணம் wedding marriage
விழா function festival | பண்டிகை festival | தீபாவளி diwali deepavali | பொங்கல் pongal
விருந்து party feast dinner | சாப்பாடு food meal lunch dinner | காலை morning breakfast
மதியம் afternoon lunch | இரவு night dinner | மாலை evening
அம்மா amma mother mom | அப்பா appa father dad | பாட்டி paati grandmother
தாத்தா thatha grandfather | அண்ணா anna brother | அண்ணன் brother | அக்கா akka sister
தம்பி thambi brother | தங்கை sister | மகன் son | மகள் daughter | கணவர் husband
மனைவி wife | மாமா uncle | அத்தை aunt | சித்தி aunt | குழந்தை child baby kids
குழந்தைகள் children kids | பசங்க kids children | நண்பர் friend | நண்பன் friend
பக்கத்துவீட்டு neighbour | மாமியார் mother | மருமகள் daughter
சமையல் cooking recipe | சாம்பார் sambar | ரசம் rasam | இட்லி idli | தோசை dosa
மாவு batter flour | அரிசி rice | சாதம் rice | பருப்பு dal lentils | புளி tamarind
உப்பு salt | மிளகாய் chilli chillies | மிளகு pepper | மஞ்சள் turmeric | எண்ணெய் oil
நெய் ghee | பால் milk | தயிர் curd yogurt | காபி coffee | டீ tea | வெங்காயம் onion onions
தக்காளி tomato tomatoes | காய்கறி vegetables | பழம் fruit | முட்டை egg eggs | மீன் fish
கோழி chicken | கறி curry meat | இனிப்பு sweet sweets | கேக் cake
நாய் dog | பூனை cat | தையல்காரர் tailor | டெய்லர் tailor | துணி clothes cloth
புடவை saree | சட்டை shirt | நகை jewellery jewel | மோதிரம் ring | கடிகாரம் watch clock
போன் phone | கைபேசி mobile phone | செல்போன் mobile phone | கணினி computer
இணையம் internet | கடவுச்சொல் password | தபால் post letter | கடிதம் letter
பார்சல் parcel | புத்தகம் book books | நூலகம் library | தச்சர் carpenter
பிளம்பர் plumber | எலக்ட்ரீஷியன் electrician | வேலைக்காரி maid | பணிப்பெண் maid
டிரைவர் driver | ஓட்டுநர் driver | வக்கீல் lawyer | பரிசு gift present
ஞாயிறு sunday | திங்கள் monday | செவ்வாய் tuesday | புதன் wednesday | வியாழன் thursday
வெள்ளிக்கிழமை friday | சனிக்கிழமை saturday | நாளை tomorrow | இன்று today
நேற்று yesterday | வாரம் week | மாதம் month | வருடம் year | எண் number | நம்பர் number
முகவரி address | பெயர் name | அட்டை card | பாஸ்போர்ட் passport | சான்றிதழ் certificate
கோப்பு file | பெட்டி box | அலமாரி cupboard shelf | பிரிட்ஜ் fridge | ஃபிரிட்ஜ் fridge
மேசை table | நாற்காலி chair | கட்டில் bed | குடை umbrella | கண்ணாடி glasses mirror
செருப்பு slippers | செடி plant plants | மரம் tree | மழை rain | வானிலை weather
பயிற்சி coaching training practice | விளையாட்டு game sport | பராமரிப்பு maintenance
பழுது repair | ரிப்பேர் repair | குழாய் tap pipe | கசிவு leak | விளக்கு light lamp
மின்விசிறி fan | ஃபேன் fan | ஏசி ac | தொலைக்காட்சி television tv | டிவி tv
"""

_HINDI = """
चाबी key keys | चाभी key keys | ताला lock | दरवाजा door | खिड़की window | घर house home
कमरा room | रसोई kitchen | बाथरूम bathroom | शौचालय toilet | छत roof terrace
बगीचा garden | दीवार wall | सीढ़ी stairs | गाड़ी car vehicle | कार car | बस bus
ट्रेन train | रेल train | जहाज flight flights | हवाई flight flights | टिकट ticket tickets
यात्रा trip travel journey | सफर trip travel | गांव village hometown | मंदिर temple
दुकान shop store | बाजार market | पेट्रोल petrol | डॉक्टर doctor | अस्पताल hospital
दवा medicine medicines tablets | दवाई medicine medicines tablets | गोली tablet tablets pills
टीका vaccine vaccination | बुखार fever | खांसी cough | दर्द pain | खून blood
स्वास्थ्य health | सेहत health
शुगर sugar diabetes | चीनी sugar | जांच checkup check test | दांत tooth teeth dentist
आंख eye eyes | पैसे money | पैसा money | रुपये rupees money | बैंक bank
फीस fee fees | बिल bill | बिजली electricity | पानी water | गैस gas | सिलेंडर cylinder gas
किराया rent | तनख्वाह salary | वेतन salary | बीमा insurance | टैक्स tax | कर्ज loan
खर्च expense cost | कीमत price cost | दाम price | स्कूल school | परीक्षा exam test
इम्तिहान exam | कक्षा class | टीचर teacher | होमवर्क homework | कॉलेज college
काम work job | नौकरी job work | दफ्तर office | ऑफिस office | मीटिंग meeting
जन्मदिन birthday | शादी wedding marriage | विवाह wedding marriage | त्योहार festival
दिवाली diwali deepavali | दीवाली diwali deepavali | होली holi | पार्टी party
खाना food meal dinner lunch | नाश्ता breakfast | माँ mother amma mom
माता mother | पिताजी father | पिता father | पापा father dad | दादी grandmother
नानी grandmother | दादा grandfather | नाना grandfather | भाई brother | भैया brother
बहन sister | दीदी sister | बेटा son | बेटी daughter | पति husband | पत्नी wife
चाचा uncle | मामा uncle | चाची aunt | मौसी aunt | बुआ aunt | बच्चे kids children
बच्चा child baby | बच्चों children kids | दोस्त friend | पड़ोसी neighbour | सास mother
चावल rice | दाल dal lentils | इमली tamarind | नमक salt | मिर्च chilli chillies
हल्दी turmeric | तेल oil | घी ghee | दूध milk | दही curd yogurt | चाय tea | कॉफी coffee
प्याज onion onions | टमाटर tomato tomatoes | सब्जी vegetables | फल fruit | अंडा egg eggs
अंडे eggs | मछली fish | चिकन chicken | मिठाई sweets sweet | केक cake | कुत्ता dog
बिल्ली cat | दर्जी tailor | कपड़े clothes | साड़ी saree | कमीज shirt | गहने jewellery
अंगूठी ring | घड़ी watch clock | फोन phone | मोबाइल mobile phone | कंप्यूटर computer
इंटरनेट internet | वाईफाई wifi | पासवर्ड password | चिट्ठी letter | पार्सल parcel
किताब book books | किताबें books | पुस्तकालय library | लाइब्रेरी library
प्लंबर plumber | बिजलीवाला electrician | नौकरानी maid | कामवाली maid | ड्राइवर driver
वकील lawyer | तोहफा gift present | उपहार gift present | सोमवार monday | मंगलवार tuesday
बुधवार wednesday | गुरुवार thursday | शुक्रवार friday | शनिवार saturday | रविवार sunday
आज today | हफ्ता week | महीना month | साल year | नंबर number
पता address | नाम name | कार्ड card | पासपोर्ट passport | फाइल file | डिब्बा box
अलमारी cupboard | फ्रिज fridge | मेज table | कुर्सी chair | बिस्तर bed | बैग bag
छाता umbrella | चश्मा glasses | पौधा plant | पौधे plants | बारिश rain | मौसम weather
मरम्मत repair | नल tap | बत्ती light | पंखा fan | टीवी tv television
"""

MIN_PREFIX = 3
"""Letters (code points) an entry needs before a longer word may start with it: "பல்"
(tooth) must not be found in "பலர்" (many people)."""
MAX_ENDING = {"ta": 6, "hi": 4}
"""Letters a word may add to an entry: Tamil's endings ("க்கு", "கள்", "வின்") are longer."""


_VIRAMAS = ("\u0bcd", "\u094d")
_TAMIL_M = "\u0bae\u0bcd"  # "ம்"


def _normal(word: str) -> str:
    """NFC without Devanagari's nukta and candrabindu: "दफ़्तर" and "दफ्तर", "माँ" and
    "मां" are the same word as people type them."""
    word = unicodedata.normalize("NFD", word)
    word = word.replace("\u093c", "").replace("\u0901", "\u0902")
    return unicodedata.normalize("NFC", word).lower()


@functools.cache
def _entries(language: str) -> dict[str, tuple[str, ...]]:
    text = {"ta": _TAMIL, "hi": _HINDI}[language]
    out: dict[str, tuple[str, ...]] = {}
    for item in text.replace("\n", " | ").split("|"):
        words = item.split()
        if len(words) >= 2:
            out.setdefault(_normal(words[0]), tuple(words[1:]))
    for word, found in list(out.items()):
        # A final consonant loses its virama when an ending follows ("சாம்பார்" ->
        # "சாம்பாருக்கு"): the stem is looked up without it too; and a Tamil noun in "-ம்"
        # takes its endings after "-த்த" ("தோட்டம்" -> "தோட்டத்தில்", in the garden).
        if word.endswith(_VIRAMAS):
            out.setdefault(word[:-1], found)
        if word.endswith(_TAMIL_M) and len(word) - len(_TAMIL_M) >= MIN_PREFIX:
            out.setdefault(word[: -len(_TAMIL_M)], found)
    return out


def english(word: str, language: str) -> tuple[str, ...]:
    """The English of a Tamil ("ta") or Hindi ("hi") ``word`` in its script ("சாவி" ->
    ("key", "keys"), "மாத்திரைகள்" -> ("tablets", "tablet", "medicine", "pills")), the first
    the plainest; () for a word not listed or a language without a list."""
    if language not in MAX_ENDING:
        return ()
    entries = _entries(language)
    word = _normal(word)
    found = entries.get(word)
    if found is not None:
        return found
    shortest = max(MIN_PREFIX, len(word) - MAX_ENDING[language])
    for end in range(len(word) - 1, shortest - 1, -1):
        found = entries.get(word[:end])
        if found is not None:
            return found
    return ()
