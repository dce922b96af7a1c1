"""Cases: findings about consenting customers that a person of the site's team answers."""
