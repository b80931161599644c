package api

import "github.com/chromedp/chromedp"

// loginAt is what a person does to reach an inbox page: open it, land on the
// login form, log in to acme as the attendant, and be sent back to it.
// Callers add what they wait for on the page.
func loginAt(s *testServer, path, email, password string, then ...chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	return append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(s.URL + path),
		chromedp.WaitVisible(chromedp.CSS("form[action='/inbox/login'] input[name=email]")),
		chromedp.SetValue(chromedp.CSS("input[name=empresa]"), "acme"),
		chromedp.SendKeys(chromedp.CSS("input[name=email]"), email),
		chromedp.SendKeys(chromedp.CSS("input[name=senha]"), password),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	}, then...)
}
