package handoff

import (
	"context"
	"errors"
	"testing"
	"time"
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

// Five wrong passwords lock the e-mail out for a quarter of an hour — even
// the right password is refused meanwhile — and then it logs in again.
func TestRepeatedWrongPasswordsLockTheEmailOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.PutAttendant(ctx, e.acct, NewAttendant{Email: "bia@loja.com.br", Name: "Bia", Password: "senha-certa-123"}); err != nil {
		t.Fatal(err)
	}
	for i := range MaxLoginFailures {
		if _, err := e.svc.Login(ctx, e.acct, "bia@loja.com.br", "chute-"+string(rune('a'+i))); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if _, err := e.svc.Login(ctx, e.acct, "Bia@Loja.com.br", "senha-certa-123"); !errors.Is(err, ErrLockedOut) {
		t.Fatalf("locked out after %d failures, whatever the password: %v", MaxLoginFailures, err)
	}
	e.clock = e.clock.Add(LoginLockout + time.Minute)
	if _, err := e.svc.Login(ctx, e.acct, "bia@loja.com.br", "senha-certa-123"); err != nil {
		t.Fatalf("after the lockout the right password logs in: %v", err)
	}
}
