# ChaosCraft. The two commands a newcomer needs:
#   make dev    set up, then run Backstage with the chaos plugins (http://localhost:3000)
#   make test   set up, then run the type check, lint and every test
.PHONY: dev test bootstrap tsc lint generate

dev:
	@scripts/dev.sh

test:
	@scripts/test.sh

bootstrap:
	@scripts/bootstrap.sh

# Regenerates what derives from the experiment model: CRDs, OpenAPI components and router.
generate:
	@bash -c 'source scripts/bootstrap.sh && yarn generate:crds && yarn generate:openapi'
