"""Real Flannel in the sandbox: the upstream ``flanneld`` and flannel CNI plugin, built
from their Go modules and run by the emulated kubelet instead of the emulation.

- :mod:`.programs`: which Go module, tag, flags and cache file each image needs;
- :mod:`.cache`: the per-version cache outside the repository (``~/.cache/cniscrub``) and
  the build records (``build.json``: built, or why not);
- :mod:`.build`: ``go install module@tag`` with progress, one build at a time;
- :mod:`.resolve`: which implementation runs an image (``real`` when built, else the
  emulation) and the files a real image puts in its container.

Facts: ``shared/reference/real-flannel.md`` (§1 build, §2 API, §4 plugin, §6 gotchas).
Nothing here is a product component; nothing built is committed.
"""
