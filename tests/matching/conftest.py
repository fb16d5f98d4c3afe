"""Matching tests, one folder per sub-domain (requests/, needs/, threads/) like marketplace/matching/."""
