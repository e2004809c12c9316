"""Models: the ChatModel protocol and its engines (OpenAI-compatible, embedded llama.cpp), embeddings, tokens."""
