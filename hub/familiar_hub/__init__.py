"""The Familiar hub: Wyoming speech services, the brain, the conductor, the web page."""
