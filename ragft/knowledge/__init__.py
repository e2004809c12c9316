"""The knowledge base: documents, chunking, the vector store, ingest, retrieval, workspaces, the sample."""
