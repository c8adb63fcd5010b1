// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {V2ForkPair} from "./V2ForkPair.sol";

/// @notice A Uniswap-V2-style factory whose pairs charge `feePips` (3000 = 0.30%) instead of
/// Uniswap's fixed 0.30%, like the many V2 forks on mainnet. Same events and pair interface
/// as Uniswap V2, so the same decoders and math (with the fee as a parameter) apply.
contract V2ForkFactory {
    uint24 public immutable feePips;
    mapping(address => mapping(address => address)) public getPair;
    address[] public allPairs;

    event PairCreated(address indexed token0, address indexed token1, address pair, uint256);

    error IdenticalAddresses();
    error ZeroAddress();
    error PairExists();
    error FeeTooHigh(uint24 feePips);

    constructor(uint24 feePips_) {
        if (feePips_ >= 1_000_000) revert FeeTooHigh(feePips_);
        feePips = feePips_;
    }

    function allPairsLength() external view returns (uint256) {
        return allPairs.length;
    }

    function createPair(address tokenA, address tokenB) external returns (address pair) {
        if (tokenA == tokenB) revert IdenticalAddresses();
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        if (token0 == address(0)) revert ZeroAddress();
        if (getPair[token0][token1] != address(0)) revert PairExists();
        pair = address(new V2ForkPair{salt: keccak256(abi.encodePacked(token0, token1))}(token0, token1, feePips));
        getPair[token0][token1] = pair;
        getPair[token1][token0] = pair;
        allPairs.push(pair);
        emit PairCreated(token0, token1, pair, allPairs.length);
    }
}
