// TacetHTTP
