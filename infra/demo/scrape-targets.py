#!/usr/bin/env python3
"""Kubernetes service discovery for the demo's Prometheus, written as a file_sd file.

Debian's Prometheus 2.42 is built without `kubernetes_sd_configs`, so this does the part of it the
demo needs: every 2 s it reads, through the sandbox's API server, the Services annotated
`prometheus.io/scrape: "true"` in the given namespaces and their EndpointSlices, and writes one
target group per ready endpoint (the pod's IP and the annotated port) with the labels
`namespace`, `pod` and `job` (the Service's name). Prometheus rereads the file when it changes.

    scrape-targets.py --api URL --ca FILE --token-file FILE --out FILE [--pid-to-follow PID] NS...

It stops when the process named by --pid-to-follow (Prometheus) is gone. Standard library only.
"""
import argparse
import json
import os
import ssl
import sys
import time
import urllib.parse
import urllib.request


def get(api: str, path: str, token_file: str, context: ssl.SSLContext) -> dict:
    with open(token_file) as f:
        token = f.read().strip()
    request = urllib.request.Request(api + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, context=context, timeout=5) as response:
        return json.load(response)


def targets(api: str, namespaces: list, token_file: str, context: ssl.SSLContext) -> list:
    groups = []
    for ns in namespaces:
        services = get(api, f"/api/v1/namespaces/{ns}/services", token_file, context)["items"]
        for service in services:
            annotations = service["metadata"].get("annotations") or {}
            if annotations.get("prometheus.io/scrape") != "true":
                continue
            name = service["metadata"]["name"]
            port = annotations.get("prometheus.io/port")
            path = annotations.get("prometheus.io/path", "/metrics")
            selector = urllib.parse.quote(f"kubernetes.io/service-name={name}")
            slices = get(api, f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices?labelSelector={selector}",
                         token_file, context)["items"]
            for s in slices:
                slice_port = port or next((p.get("port") for p in s.get("ports") or [] if p.get("port")), None)
                if not slice_port:
                    continue
                for endpoint in s.get("endpoints") or []:
                    if (endpoint.get("conditions") or {}).get("ready") is False:
                        continue
                    pod = (endpoint.get("targetRef") or {}).get("name", "")
                    for address in endpoint.get("addresses", []):
                        groups.append({
                            "targets": [f"{address}:{slice_port}"],
                            "labels": {"namespace": ns, "pod": pod, "job": name, "__metrics_path__": path},
                        })
    groups.sort(key=lambda g: g["targets"][0])
    return groups


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--pid-to-follow", type=int)
    parser.add_argument("--once", action="store_true")
    parser.add_argument("namespaces", nargs="+")
    args = parser.parse_args()
    context = ssl.create_default_context(cafile=args.ca)
    last = None
    while args.pid_to_follow is None or alive(args.pid_to_follow):
        try:
            text = json.dumps(targets(args.api, args.namespaces, args.token_file, context), indent=1)
            if text != last:
                # Written aside and renamed: Prometheus never reads half a file.
                with open(args.out + ".tmp", "w") as f:
                    f.write(text)
                os.replace(args.out + ".tmp", args.out)
                last = text
        except Exception as error:  # the API server restarting, say: keep the last targets
            print(f"scrape-targets: {error}", file=sys.stderr, flush=True)
        if args.once:
            return 0
        time.sleep(2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
