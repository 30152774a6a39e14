"""newsearch indexer: archive files -> Page/Article records -> Whoosh index."""
