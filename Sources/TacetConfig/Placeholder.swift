// TacetConfig
