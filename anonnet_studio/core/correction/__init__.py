"""Hand correction of the analysis: box geometry, keyframe interpolation and propagation.

`geometry` (clipping user boxes, landmark templates, keyframe corrections interpolated
between keyframes) and `propagation` (following a hand-drawn box through its shot with a
visual tracker, the detector re-run around it and the embedder as a veto). No Qt here.
"""
