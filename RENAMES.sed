# Issue 20 item 4: the Fabric struct's flat members -> the nested sections that mirror the YAML
# (model/fabric.hpp). Apply with: sed -i -f RENAMES.sed FILE...
# Member accesses are renamed after a Fabric variable named f or g (f., g., f->: the names the code
# uses), not after any `.`: other structs share names (Topology T.rails, HostMemoryProbe's
# reduce_spilled_GBps), and key paths in strings ("endpoint.memory_bandwidth_GBps") must stay.
s/\b\([fg]\)\(\.\|->\)scaleup_bandwidth_GBps\b/\1\2scale_up.bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_latency_us\b/\1\2scale_up.latency_us/g
s/\b\([fg]\)\(\.\|->\)scaleup_aggregate_GBps\b/\1\2scale_up.aggregate_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_cache_bytes\b/\1\2scale_up.cache_bytes/g
s/\b\([fg]\)\(\.\|->\)scaleup_spilled_GBps\b/\1\2scale_up.spilled_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_outer_cache_bytes\b/\1\2scale_up.outer_cache_bytes/g
s/\b\([fg]\)\(\.\|->\)scaleup_outer_spilled_GBps\b/\1\2scale_up.outer_spilled_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_outer_eviction_GBps\b/\1\2scale_up.outer_eviction_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_forward_GBps\b/\1\2scale_up.forward_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_forward_spilled_GBps\b/\1\2scale_up.forward_spilled_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)scaleup_forward_overhead_us\b/\1\2scale_up.forward_overhead_us/g
s/\b\([fg]\)\(\.\|->\)scaleup_exchange_latency_us\b/\1\2scale_up.exchange_latency_us/g
s/\b\([fg]\)\(\.\|->\)in_switch_reduction\b/\1\2scale_up.in_switch_reduction/g
s/\b\([fg]\)\(\.\|->\)endpoint_kind\b/\1\2endpoint.kind/g
s/\b\([fg]\)\(\.\|->\)memory_bandwidth_GBps\b/\1\2endpoint.memory_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)reduce_bandwidth_GBps\b/\1\2endpoint.reduce_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)memory_spilled_GBps\b/\1\2endpoint.memory_spilled_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)nic_bandwidth_Gbps\b/\1\2scale_out.nic_bandwidth_Gbps/g
s/\b\([fg]\)\(\.\|->\)nic_latency_us\b/\1\2scale_out.latency_us/g
s/\b\([fg]\)\(\.\|->\)in_network_reduction\b/\1\2scale_out.in_network_reduction/g
s/\b\([fg]\)\(\.\|->\)network_transport\b/\1\2scale_out.transport/g
s/\b\([fg]\)\(\.\|->\)reduce_spilled_GBps\b/\1\2endpoint.reduce_spilled_bandwidth_GBps/g
s/\b\([fg]\)\(\.\|->\)generation\b/\1\2endpoint.generation/g
s/\b\([fg]\)\(\.\|->\)domain_size\b/\1\2scale_up.domain_size/g
s/\b\([fg]\)\(\.\|->\)nics_per_domain\b/\1\2scale_out.nics_per_domain/g
s/\b\([fg]\)\(\.\|->\)rails\b/\1\2scale_out.rails/g
s/\b\([fg]\)\(\.\|->\)planes\b/\1\2scale_out.planes/g
s/\b\([fg]\)\(\.\|->\)wire_efficiency\b/\1\2scale_out.wire_efficiency/g
s/\b\([fg]\)\(\.\|->\)tiers\b/\1\2scale_out.tiers/g
s/&Fabric::scaleup_aggregate_GBps\b/\&ScaleUp::aggregate_bandwidth_GBps/g
s/&Fabric::scaleup_forward_GBps\b/\&ScaleUp::forward_bandwidth_GBps/g
s/&Fabric::scaleup_forward_spilled_GBps\b/\&ScaleUp::forward_spilled_bandwidth_GBps/g
s/&Fabric::scaleup_forward_overhead_us\b/\&ScaleUp::forward_overhead_us/g
s/&Fabric::scaleup_exchange_latency_us\b/\&ScaleUp::exchange_latency_us/g
s/\bFabric::scaleup_cache_bytes\b/Fabric::scale_up.cache_bytes/g
s/\bFabric::scaleup_outer_eviction_GBps\b/Fabric::scale_up.outer_eviction_GBps/g
s/\bFabric::scaleup_forward_GBps\b/Fabric::scale_up.forward_bandwidth_GBps/g
s/\bFabric::scaleup_forward_spilled_GBps\b/Fabric::scale_up.forward_spilled_bandwidth_GBps/g
s/\bFabric::scaleup_forward_overhead_us\b/Fabric::scale_up.forward_overhead_us/g
