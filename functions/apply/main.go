// Command apply is the apply step of the snapper state machine.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/snapper/snapper/internal/wiring"
)

func main() {
	deps, err := wiring.FromEnv(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(deps.Apply)
}
