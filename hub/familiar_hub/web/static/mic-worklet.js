// Hands the microphone's samples to the page in blocks (Float32, the context's rate).
class MicCapture extends AudioWorkletProcessor {
  constructor() { super(); this.block = new Float32Array(1280); this.fill = 0; }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (input) {
      for (let i = 0; i < input.length; i++) {
        this.block[this.fill++] = input[i];
        if (this.fill === this.block.length) {
          this.port.postMessage(this.block.slice(0));
          this.fill = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("mic-capture", MicCapture);
