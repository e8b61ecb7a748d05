"""What workers publish, each object signed by a worker run or a user: corpora, elements and their
tree, transcriptions, classifications, metadata, entities, images (IIIF), the provenance of what
a run signed and its retraction (routes.py: their routes)."""
