// Package memory is the shared contact memory every other part of Atende reads
// and writes: one contact per person across channels (identities, merges), one
// append-only timeline of everything said and done, structured fields with
// their history, and the embedded history that agents retrieve from through a
// token-budgeted MemoryView. It owns the tables contacts, contact_identities,
// conversations, events, merges, memory_chunks and knowledge.
package memory
