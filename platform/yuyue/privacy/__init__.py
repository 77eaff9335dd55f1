"""Privacy: a customer's data requests (downloads and erasures), erasure of their personal data everywhere, and retention."""
