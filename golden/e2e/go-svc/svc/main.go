// Command ids serves random identifiers over HTTP.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"

	"github.com/google/uuid"
)

func main() {
	addr := os.Getenv("LISTEN")
	if addr == "" {
		addr = ":8090"
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("content-type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"id": uuid.NewString()})
	})
	log.Printf("ids listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
