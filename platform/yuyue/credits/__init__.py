"""Class packages: credits a customer buys in packages and spends on bookings, kept in a ledger."""
