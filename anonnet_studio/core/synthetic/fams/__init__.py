"""Second synthetic-face backend: Face Anonymization Made Simple (FAMS, Kung et al.,
WACV 2025), our own implementation on diffusers' stock models.

- `referencenet`: the ReferenceNet and the UNet that attends to its features;
- `pipeline`: the sampler (anonymization degree, guidance, DDPM steps, step callback);
- `loading`: the models from the model manager's folders (`resources/models/fams.json`).
"""
