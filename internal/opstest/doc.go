// Package opstest holds the operations tests of waorders: they build the
// binary and run it as an operator would, behind the shipped reverse proxy
// examples, in the container image, with its alert rules, through a
// credentials reload under load and a storage outage. Tools that are not
// installed (caddy, nginx, promtool, podman, systemd-analyze) make their
// test skip with a message, and fail instead under CI (CI=true), where
// .ci/run installs them.
package opstest
