// Package conversations owns the conversations table: the episodes of a
// contact's one history, who holds each (the bot, a queue, a person), the
// sector it is about, and the turn lease that makes a conversation's turns run
// one at a time across workers and replicas without pinning a connection.
package conversations
