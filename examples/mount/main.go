// Command mount shows how to mount a scimkit handler in an existing server:
// with net/http's ServeMux, and with chi. Both strip the mount prefix so the
// handler sees /Users, /Groups, … whatever the app calls its SCIM root.
//
//	go run ./examples/mount -router chi
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/store/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	router := flag.String("router", "mux", "mux (net/http ServeMux) or chi")
	flag.Parse()

	h, err := newSCIM()
	if err != nil {
		log.Fatal(err)
	}
	var app http.Handler
	switch *router {
	case "mux":
		app = withServeMux(h)
	case "chi":
		app = withChi(h)
	default:
		log.Fatalf("unknown -router %q", *router)
	}
	log.Printf("SCIM at http://%s/scim/v2 (token: demo-token)", *addr)
	// A server facing the internet needs timeouts: http.ListenAndServe has
	// none, and a client that trickles its headers or body would hold a
	// connection forever. The request deadline of the SCIM handler
	// (Limits.Timeout, 30 s) fits inside them.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           app,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       40 * time.Second,
		WriteTimeout:      45 * time.Second,
		IdleTimeout:       30 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// newSCIM builds the SCIM handler of the app: one tenant, one token.
func newSCIM() (*scim.Handler, error) {
	tokens := scim.NewStaticTokens()
	tokens.Add("acme", "demo-token")
	return scim.NewHandler(memory.New(), scim.RolePolicy{}, scim.Config{
		Authenticator: tokens,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
}

// withServeMux mounts the handler on net/http's ServeMux.
func withServeMux(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", http.StripPrefix("/scim/v2", h))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("the rest of the app\n"))
	})
	return mux
}

// withChi mounts the handler on a chi router. chi's Mount strips the
// prefix from the routing path but leaves r.URL.Path whole, so strip it
// explicitly as with ServeMux.
func withChi(h http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Mount("/scim/v2", http.StripPrefix("/scim/v2", h))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("the rest of the app\n"))
	})
	return r
}
