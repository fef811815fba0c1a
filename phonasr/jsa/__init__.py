"""JSA-SPG: the Metropolis independence sampler, the persistent sample cache and the joint training task."""
