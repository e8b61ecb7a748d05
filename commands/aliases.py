"""Alias formats: natural keys and entity ids -> the stream that owns them.

An alias is claimed atomically with the events that create its owner (the event store's
`stream_aliases`, unique): that claim is what makes a username, a token or a worker slug unique
under races. The handlers claim them; authentication and the CLI resolve them.
"""

USERNAME = "username:{}"
TOKEN = "token:{}"
WORKER_SLUG = "worker-slug:{}"
WORKER_VERSION = "worker-version:{}"
MODEL_VERSION = "model-version:{}"
WORKER_RUN = "worker-run:{}"
# issue 10: one image per URL, one server per URL prefix (keyed by domain.image.url_key)
IMAGE_URL = "image-url:{}"
IMAGE_SERVER_URL = "image-server-url:{}"
#: a child element of a parent, by type and polygon: CreateElementTranscriptions reuses it
ELEMENT_ZONE = "element-zone:{}"
#: a transcription -> its element's stream (issue 10 B: entities are created by transcription id)
TRANSCRIPTION = "transcription:{}"
