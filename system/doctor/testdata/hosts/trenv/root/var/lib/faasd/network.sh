#!/bin/bash
# fixture stand-in for faasd network.sh (builds netns fc<N>)
