"""The assistant: comment triage, answer drafts, review insights and selection (选品).

Everything runs locally and offline, deterministically for the same input, and says why:
no model is downloaded at run time. ``triage`` gives each live-room comment an intent and
the product it refers to; ``answers`` drafts a reply from the product's own data (or says
it does not know); ``insights`` turns a session's report into ranked findings;
``recommend`` ranks supply-pool products a merchant has not sold yet.
"""
