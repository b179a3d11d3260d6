// Command heavy is a gRPC server with Prometheus metrics and a Kubernetes client: a module with well over 100
// dependencies, for benchmarking `gopack plan` against `go list -deps -json` (bench/plan.sh).
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func main() {
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "heavy_requests_total", Help: "Requests."})
	prometheus.MustRegister(requests)
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	lis, err := net.Listen("tcp", ":9090")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _ = srv.Serve(lis) }()
	if cfg, err := rest.InClusterConfig(); err == nil {
		if _, err := kubernetes.NewForConfig(cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	http.Handle("/metrics", promhttp.Handler())
	fmt.Fprintln(os.Stderr, http.ListenAndServe(":8080", nil))
}
