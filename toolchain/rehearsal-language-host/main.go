// Command pulumi-language-nodejs, as eks-runbook's rehearsal stand-in for Pulumi's Node.js
// language host. A real Pulumi install ships the real host; the local toolchain cannot build
// it (its Go module is untagged and the module proxy here refuses it), so the rehearsal
// uses this small host instead. It speaks the same plugin protocol to the same engine and
// runs the program through the same @pulumi/pulumi entry point (cmd/run) with the same
// arguments and environment. What it implements and what it does not:
// docs/rehearsal-language-host.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is the Pulumi version this host stands in for (set at build time).
var version = "0.0.0-dev"

// description names the host wherever it reports about itself.
const description = "eks-runbook rehearsal language host (a stand-in for Pulumi's pulumi-language-nodejs)"

// Messages between the engine and a plugin can be large (a program's whole config).
const maxMessageSize = 400 * 1024 * 1024

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the program")
	// Flags older engines pass; the runtime options now come with each request.
	flag.Bool("typescript", true, "obsolete: the runtime option `typescript` is used")
	flag.String("root", "", "obsolete: the request's program info is used")
	flag.String("tsconfig", "", "obsolete: the runtime option `tsconfig` is used")
	flag.String("nodeargs", "", "obsolete: the runtime option `nodeargs` is used")
	flag.String("packagemanager", "", "obsolete: dependencies are not installed by this host")
	showVersion := flag.Bool("version", false, "print the version and what this host is, then exit")
	flag.Parse()

	if *showVersion {
		fmt.Printf("v%s %s\n", version, description)
		return
	}

	// The engine passes its own address as the only positional argument.
	engineAddress := flag.Arg(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("could not listen on a loopback port: %v", err)
	}
	server := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessageSize), grpc.MaxSendMsgSize(maxMessageSize))
	host := newLanguageHost(engineAddress, *tracing)
	pulumirpc.RegisterLanguageRuntimeServer(server, host)
	healthpb.RegisterHealthServer(server, health.NewServer())

	// The handshake of every Pulumi plugin: the port, alone on the first line of stdout.
	fmt.Printf("%d\n", listener.Addr().(*net.TCPAddr).Port)

	if engineAddress != "" {
		go watchEngine(ctx, engineAddress, stop)
	}
	go func() {
		<-ctx.Done()
		// Programs still running would outlive an engine that is gone: stop them first.
		host.stopPrograms()
		server.Stop()
	}()
	if err := server.Serve(listener); err != nil {
		fail("language host stopped serving: %v", err)
	}
}

// watchEngine stops the host when the engine that started it is gone (killed, not closed),
// so neither this process nor the programs it runs are left behind.
func watchEngine(ctx context.Context, address string, stop context.CancelFunc) {
	conn, err := grpc.NewClient(address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	failures := 0
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		checkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := client.Check(checkCtx, &healthpb.HealthCheckRequest{})
		cancel()
		// Only an engine that cannot be reached counts; a busy or health-less one is alive.
		if status.Code(err) == codes.Unavailable {
			failures++
		} else {
			failures = 0
		}
		if failures >= 3 {
			stop()
			return
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (rehearsal): "+format+"\n", args...)
	os.Exit(1)
}
