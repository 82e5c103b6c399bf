"""Constants the model and its decoders share (plain numbers: importing this loads no torch)."""

NEG_INF = -1e4  # score of an impossible tag or transition; finite, so gradients stay defined
MAX_NBEST = 100  # most alternative tag sequences one may ask of k-best decoding
TAG_BATCH_SIZE = 256  # encoder rows tagging runs at a time (`tag --batch-size`, Tagger's)
