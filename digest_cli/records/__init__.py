"""Records: the YAML files under data/, their model, and the one writer."""
