"""Prediction: batches -> paths (`decode`) -> spans and tags (`spans`), the one engine
behind dev scoring, `evaluate` and `report` (`evaluation`) and behind `tag` and
`Tagger` (`serve/`)."""
