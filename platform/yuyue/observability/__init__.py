"""What operators watch a running yuyue by: metrics, readiness and logs."""
