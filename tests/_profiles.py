"""The provider profiles the profile tests cover (schemas/profiles/<name>.yaml)."""

PROVIDERS = ["openai", "carrot", "carpathian", "karta", "inferbase"]
