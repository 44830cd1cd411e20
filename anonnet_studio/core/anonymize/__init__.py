"""Redaction rendering with a no-leak guarantee.

`plan` (what to hide, where), `masks` (smoothed, feathered face ellipses), `methods`
(blur, pixelate, mask, keep, synthetic through one interface), `redaction` (one frame,
with fallbacks that never show the original), `leakcheck` (detect + verify every rendered
frame, cover leaks, residual re-identification) and `renderer` (the streaming render).
"""
