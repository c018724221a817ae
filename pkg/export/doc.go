// Package export turns classified flows into what reaches people: Prometheus metrics,
// alerts pushed to Alertmanager, and a structured log of policy violations.
//
// An Exporter is fed by the flow table's two hooks: Decided when a flow's verdict is
// reached (flow.Config.OnDecide) and Finished when it ends (the table's sink). It
// counts each flow once, at its verdict, and adds bytes as they become known. It is a
// prometheus.Collector that builds constant metrics from that state at scrape time;
// register it on a private registry. Series are capped: past the cap new label sets
// are folded into workload "other", and the folding is itself counted.
//
// An Alerter keeps one alert per violating service pair and pushes it to every
// configured Alertmanager (API v2): re-sent before it would expire, resolved once the
// pair has been clean for the policy's alert_resolve_after, retried with exponential
// backoff while an Alertmanager is down. What waits for delivery is bounded and holds
// only the latest state of each pair, so nothing that still matters is lost.
//
// Exporter and Alerter are safe for concurrent use: the capture goroutine feeds them
// while HTTP scrapes and the Alerter's own goroutines (Run) read them. Neither owns
// the flow table or the capture source. Label values never carry addresses, ports of
// clients, SNI or fingerprints; those go in alert annotations and logs. The one
// exception is the probe families (SetProbeRound): their server label is the probed
// server's ip:port, because a probe result is about one listener, and their series
// are bounded by the number of servers a round probes (the agent's
// --probe-max-targets) and replaced whole by each round.
package export
