"""`sevbot doctor`: check everything a running bot depends on, changing nothing."""
