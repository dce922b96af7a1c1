"""What a site's team reads of its aggregates: the dashboard's figures (``dashboard``),
the weekly digest and the alerts (``digest``, ``alerts``), and how they are mailed
(``mail``)."""
