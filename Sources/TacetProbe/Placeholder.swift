// TacetProbe
