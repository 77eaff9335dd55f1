"""What operators watch: metrics, readiness and logs."""
