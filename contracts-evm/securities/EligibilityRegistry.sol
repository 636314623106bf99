// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/**
 * @title EligibilityRegistry
 * @notice Who may hold a permissioned security, in the way of ERC-3643's identity registry: an agent (the
 * CSD or registrar, after its own KYC) registers each eligible investor address, and each custodian
 * contract that may hold the security in escrow for a delivery (the HashTimeLock). A custodian is not an
 * investor: securities only pass through it on the way from a seller to a buyer (see SecurityToken).
 * One registry can serve several securities.
 */
contract EligibilityRegistry is AccessControl {
    /// @notice Maintains the registry (registers and removes holders).
    bytes32 public constant AGENT_ROLE = keccak256("AGENT_ROLE");

    /// @notice What an address is to the registry.
    enum HolderKind {
        None,
        Investor,
        Custodian
    }

    mapping(address holder => HolderKind kind) private _kinds;

    /// @notice The zero address cannot be registered.
    error HolderAddressZero();
    /// @notice Register as None is a removal: call remove.
    error HolderKindInvalid();
    /// @notice A custodian must be a contract (code at the address), never a key that could spend the escrow.
    error CustodianNotContract(address custodian);

    event HolderRegistered(address indexed holder, HolderKind kind);
    event HolderRemoved(address indexed holder);

    /// @param admin Grants and revokes the agent role.
    /// @param agent The first agent.
    constructor(address admin, address agent) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AGENT_ROLE, agent);
    }

    /// @notice Registers `holder` as an eligible investor or a custodian (re-registering changes its kind).
    /// @param holder The address.
    /// @param kind Investor or Custodian.
    function register(address holder, HolderKind kind) external onlyRole(AGENT_ROLE) {
        if (holder == address(0)) revert HolderAddressZero();
        if (kind == HolderKind.None) revert HolderKindInvalid();
        if (kind == HolderKind.Custodian && holder.code.length == 0) revert CustodianNotContract(holder);
        _kinds[holder] = kind;
        emit HolderRegistered(holder, kind);
    }

    /// @notice Removes `holder`: it can no longer receive or deliver (deliveries already in escrow still settle).
    /// @param holder The address.
    function remove(address holder) external onlyRole(AGENT_ROLE) {
        delete _kinds[holder];
        emit HolderRemoved(holder);
    }

    /// @notice What `holder` is: None, Investor or Custodian.
    /// @param holder The address.
    function kindOf(address holder) external view returns (HolderKind) {
        return _kinds[holder];
    }

    /// @notice Whether `holder` is a registered investor (may own the security).
    /// @param holder The address.
    function isInvestor(address holder) external view returns (bool) {
        return _kinds[holder] == HolderKind.Investor;
    }

    /// @notice Whether `holder` is a registered custodian (may hold the security in escrow for a delivery).
    /// @param holder The address.
    function isCustodian(address holder) external view returns (bool) {
        return _kinds[holder] == HolderKind.Custodian;
    }
}
