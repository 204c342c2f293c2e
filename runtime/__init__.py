"""sipc runtime: the SIP proxy the compiled scripts run on."""
