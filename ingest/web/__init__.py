"""Documents from the web: a source list the secretariat edits, fetched politely into the data
dir, and ingested together with the corpus folder."""
