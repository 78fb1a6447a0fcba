"""The post ids of the five sample seeds (``seeds/samples``), by file number."""

SEED_IDS = {
    "000": "anp-ref-019995-4029",
    "001": "anp-ref-003275-2123",
    "002": "anp-ref-000357-8833",
    "003": "anp-ref-013900-8738",
    "004": "anp-ref-012395-2485",
}
