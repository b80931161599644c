package handoff

import (
	"context"
	"testing"
)

// Changing an attendant's password ends the sessions the old one opened (a
// stolen session must not outlive the reset); keeping it changes nothing.
func TestANewPasswordEndsOldSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.PutAttendant(ctx, e.acct, NewAttendant{Email: "ana@loja.com.br", Name: "Ana", Password: "senha-antiga-123"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := e.svc.StartSession(ctx, e.acct, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutAttendant(ctx, e.acct, NewAttendant{Email: "ana@loja.com.br", Name: "Ana Paula", Password: "senha-antiga-123"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(ctx, token); err != nil {
		t.Fatalf("the same password keeps the session: %v", err)
	}
	if _, err := e.svc.PutAttendant(ctx, e.acct, NewAttendant{Email: "ana@loja.com.br", Name: "Ana Paula", Password: "senha-nova-456"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Session(ctx, token); err == nil {
		t.Fatal("the old session must end with the new password")
	}
	if _, err := e.svc.Login(ctx, e.acct, "ana@loja.com.br", "senha-nova-456"); err != nil {
		t.Fatalf("the new password logs in: %v", err)
	}
}
