// The loader being built.
