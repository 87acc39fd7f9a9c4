# ChaosCraft. The two commands a newcomer needs:
#   make dev    set up, then run the demo: sandbox cluster, agent, Backstage (http://localhost:3000)
#   make test   set up, then run the type check, lint and every test
.PHONY: dev test bootstrap generate sandbox-up sandbox-down sandbox-status images test-chart test-e2e bench

dev:
	@scripts/dev.sh

test:
	@scripts/test.sh

bootstrap:
	@scripts/bootstrap.sh

# Regenerates what derives from the experiment model: CRDs, OpenAPI components and router, and
# docs/API.md from the OpenAPI spec.
generate:
	@bash -c 'source scripts/bootstrap.sh && yarn generate:crds && yarn generate:openapi && \
	  CHAOSCRAFT_UPDATE_GENERATED=1 yarn workspace @chaoscraft/backstage-plugin-chaos-backend backstage-cli package test --watchAll=false src/schema/apiDoc.test.ts'

# The local Kubernetes sandbox on its own (docs/sandbox.md); make dev starts it too.
sandbox-up:
	@infra/sandbox/sandbox.sh up
sandbox-down:
	@infra/sandbox/sandbox.sh down
sandbox-status:
	@infra/sandbox/sandbox.sh status

# The container images (agent, demo app, pause) as OCI archives, without Docker (docs/sandbox.md).
images:
	@infra/images/build.sh

# The agent's Helm chart installed from the local image onto the sandbox's real node.
test-chart:
	@infra/sandbox/test-chart.sh

# The browser story against a fresh `make dev` stack (make test runs it too).
test-e2e:
	@scripts/test-e2e.sh

# Every benchmark, each printing its figures on its last line.
bench: bench-injection bench-selection bench-abort bench-revert bench-backend bench-backend-sqlite bench-ui

include agent/Makefile.inc
include plugins/chaos-backend/Makefile.inc
include agent/Makefile.network.inc
include agent/Makefile.hypothesis.inc
include infra/Makefile.inc
include e2e/Makefile.inc
