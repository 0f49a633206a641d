package scim_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
)

// emailsBody is a POST /Users body with userName and n emails
// e<k>@<domain>.
func emailsBody(userName, domain string, n int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"emails":[`, userName)
	for k := range n {
		if k > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"value":"e%d@%s","type":"work"}`, k, domain)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// BenchmarkHandlerSharedEmails times a POST /Users whose n emails all
// belong to a user created just before (so, with LinkExisting, each is
// looked up and matches a managed user). Its cost must grow with n, not
// with n²: ns/email must not grow with n. new-ns/email is the same for
// the first POST, whose emails nobody has yet.
//
//	go test -run '^$' -bench HandlerSharedEmails -benchtime 1x .
func BenchmarkHandlerSharedEmails(b *testing.B) {
	for _, s := range benchStores(b) {
		for _, n := range []int{1000, 4000, 7000, 20000} {
			b.Run(fmt.Sprintf("%s/n=%d", s.name, n), func(b *testing.B) {
				tokens := scim.NewStaticTokens()
				tenant := fmt.Sprintf("bench-%s-%d", b.Name(), os.Getpid())
				tokens.Add(tenant, "scim_bench_emails")
				h, err := scim.NewHandler(s.open(b), demoPolicy, scim.Config{
					Authenticator: tokens,
					Logger:        slog.New(slog.NewJSONHandler(io.Discard, nil)),
					Users:         scim.UserRules{LinkExisting: true},
					Limits:        scim.Limits{MaxBodyBytes: 16 << 20, RequestsPerSecond: -1, MaxConcurrent: -1, MaxValues: -1, Timeout: time.Hour},
				})
				if err != nil {
					b.Fatal(err)
				}
				bh := &benchHandler{h: h, token: "scim_bench_emails"}
				i := 0
				var spent, first time.Duration
				for b.Loop() {
					b.StopTimer()
					domain := fmt.Sprintf("d%d-%d.example", os.Getpid(), i)
					start := time.Now()
					bh.serve(b, http.MethodPost, "/Users", emailsBody(fmt.Sprintf("a%d@%s", i, domain), domain, n), http.StatusCreated)
					first += time.Since(start)
					b.StartTimer()
					start = time.Now()
					bh.serve(b, http.MethodPost, "/Users", emailsBody(fmt.Sprintf("b%d@%s", i, domain), domain, n), http.StatusCreated)
					spent += time.Since(start)
					i++
				}
				b.ReportMetric(float64(spent.Nanoseconds())/float64(i*n), "ns/email")
				b.ReportMetric(float64(first.Nanoseconds())/float64(i*n), "new-ns/email")
			})
		}
	}
}
