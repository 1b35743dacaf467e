"""The supply pool: suppliers' products (SPU) with SKUs and stock, platform review,
Chinese search, and merchants' selection (选品) into their showcases."""
