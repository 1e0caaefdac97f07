// TacetStatic
