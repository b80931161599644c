package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// loadWebhooks posts signed WhatsApp Cloud webhooks concurrently to a running
// server (each a new message from one of many numbers), then measures the raw
// single-row INSERT+COMMIT rate of the same PostgreSQL with the same
// concurrency, so the two can be compared side by side.
func loadWebhooks(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("load-webhooks", flag.ContinueOnError)
	target := fs.String("url", "", "the channel's webhook URL, e.g. http://127.0.0.1:8080/webhooks/whatsapp/ID")
	secret := fs.String("secret", "", "the channel's app secret (signs each request)")
	n := fs.Int("n", 5000, "webhooks to post")
	concurrency := fs.Int("c", 16, "concurrent senders")
	numbers := fs.Int("numbers", 1000, "distinct customer phone numbers")
	timeout := fs.Duration("timeout", 2*time.Minute, "stop after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" || *secret == "" {
		return errors.New("usage: atende load-webhooks -url WEBHOOK_URL -secret APP_SECRET [-n 5000] [-c 16]")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	lat := make(latencies, 0, *n)
	var mu sync.Mutex
	var next, failed atomic.Int64
	run := time.Now().UnixNano()
	start := time.Now()
	var wg sync.WaitGroup
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				phone := fmt.Sprintf("55119%08d", i%int64(*numbers))
				body := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"551140028922","phone_number_id":"1"},"contacts":[{"profile":{"name":"Cliente %d"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"wamid.load.%d.%d","timestamp":"%d","type":"text","text":{"body":"mensagem de carga %d: quero saber do meu pedido"}}]}}]}]}`,
					i, phone, phone, run, i, time.Now().Unix(), i)
				mac := hmac.New(sha256.New, []byte(*secret))
				mac.Write(body)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, *target, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					if resp != nil {
						resp.Body.Close()
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return fmt.Errorf("no webhook was acknowledged (%d failed)", failed.Load())
	}
	fmt.Printf("webhooks: %d acknowledged, %d failed, %d concurrent, %.1fs\n", len(lat), failed.Load(), *concurrency, elapsed.Seconds())
	fmt.Printf("  throughput %.0f webhooks/s; ack p50 %s, p90 %s, p99 %s\n", float64(len(lat))/elapsed.Seconds(),
		lat.percentile(0.5).Round(10*time.Microsecond), lat.percentile(0.9).Round(10*time.Microsecond), lat.percentile(0.99).Round(10*time.Microsecond))

	url, err := databaseURL()
	if err != nil {
		log.Warn("no DATABASE_URL: skipping the raw INSERT+COMMIT comparison")
		return nil
	}
	rate, err := rawInsertRate(ctx, url, *concurrency, 5*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("raw single-row INSERT+COMMIT, same PostgreSQL, %d connections: %.0f rows/s\n", *concurrency, rate)
	fmt.Printf("webhooks/s ÷ raw commits/s = %.2f\n", float64(len(lat))/elapsed.Seconds()/rate)
	return nil
}

// rawInsertRate commits single-row inserts into a scratch table for d.
func rawInsertRate(ctx context.Context, url string, conns int, d time.Duration) (float64, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS atende_load_probe (id bigserial PRIMARY KEY, body text)`); err != nil {
		return 0, fmt.Errorf("create probe table: %w", err)
	}
	defer func() { _, _ = pool.Exec(context.Background(), `DROP TABLE IF EXISTS atende_load_probe`) }()
	var count atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := pool.Exec(ctx, `INSERT INTO atende_load_probe (body) VALUES ('mensagem de carga')`); err == nil {
					count.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(count.Load()) / d.Seconds(), nil
}
