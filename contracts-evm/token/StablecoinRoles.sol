// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/**
 * @title StablecoinRoles
 * @notice The operating roles of the stablecoin. The owner (admin) appoints every other role; each role
 * holds one narrow power so that a stolen key does limited damage:
 * - master minter: appoints minters and sets their allowances;
 * - pauser: stops and restarts every transfer, mint, burn and redemption;
 * - blocklister: freezes and unfreezes accounts;
 * - rescuer: returns other tokens sent to the contract by mistake.
 * Ownership moves in two steps (transfer, then accept) and cannot be renounced, because the owner is the
 * only one who can rotate the collateral signer after a key compromise.
 */
abstract contract StablecoinRoles is Ownable2Step {
    address private _masterMinter;
    address private _pauser;
    address private _blocklister;
    address private _rescuer;

    /// @notice The caller does not hold the role the function needs.
    error CallerLacksRole(bytes32 role, address caller);
    /// @notice A role cannot be given to the zero address.
    error RoleAccountZero(bytes32 role);
    /// @notice Ownership cannot be renounced (the owner rotates the collateral signer).
    error OwnershipCannotBeRenounced();

    event MasterMinterChanged(address indexed newMasterMinter);
    event PauserChanged(address indexed newPauser);
    event BlocklisterChanged(address indexed newBlocklister);
    event RescuerChanged(address indexed newRescuer);

    bytes32 internal constant MASTER_MINTER_ROLE = "MASTER_MINTER";
    bytes32 internal constant PAUSER_ROLE = "PAUSER";
    bytes32 internal constant BLOCKLISTER_ROLE = "BLOCKLISTER";
    bytes32 internal constant RESCUER_ROLE = "RESCUER";

    constructor(address owner_, address masterMinter_, address pauser_, address blocklister_, address rescuer_)
        Ownable(owner_)
    {
        _updateMasterMinter(masterMinter_);
        _updatePauser(pauser_);
        _updateBlocklister(blocklister_);
        _updateRescuer(rescuer_);
    }

    modifier onlyMasterMinter() {
        if (msg.sender != _masterMinter) revert CallerLacksRole(MASTER_MINTER_ROLE, msg.sender);
        _;
    }

    modifier onlyPauser() {
        if (msg.sender != _pauser) revert CallerLacksRole(PAUSER_ROLE, msg.sender);
        _;
    }

    modifier onlyBlocklister() {
        if (msg.sender != _blocklister) revert CallerLacksRole(BLOCKLISTER_ROLE, msg.sender);
        _;
    }

    modifier onlyRescuer() {
        if (msg.sender != _rescuer) revert CallerLacksRole(RESCUER_ROLE, msg.sender);
        _;
    }

    /// @notice The account that appoints minters and sets their allowances.
    function masterMinter() external view returns (address) {
        return _masterMinter;
    }

    /// @notice The account that may pause and unpause the token.
    function pauser() external view returns (address) {
        return _pauser;
    }

    /// @notice The account that may blocklist and unblocklist accounts.
    function blocklister() external view returns (address) {
        return _blocklister;
    }

    /// @notice The account that may rescue other tokens sent to this contract.
    function rescuer() external view returns (address) {
        return _rescuer;
    }

    /// @notice Owner only: appoints a new master minter.
    /// @param newMasterMinter The new master minter, not the zero address.
    function updateMasterMinter(address newMasterMinter) external onlyOwner {
        _updateMasterMinter(newMasterMinter);
    }

    /// @notice Owner only: appoints a new pauser.
    /// @param newPauser The new pauser, not the zero address.
    function updatePauser(address newPauser) external onlyOwner {
        _updatePauser(newPauser);
    }

    /// @notice Owner only: appoints a new blocklister.
    /// @param newBlocklister The new blocklister, not the zero address.
    function updateBlocklister(address newBlocklister) external onlyOwner {
        _updateBlocklister(newBlocklister);
    }

    /// @notice Owner only: appoints a new rescuer.
    /// @param newRescuer The new rescuer, not the zero address.
    function updateRescuer(address newRescuer) external onlyOwner {
        _updateRescuer(newRescuer);
    }

    /// @notice Always reverts: the token must keep an owner.
    function renounceOwnership() public view override onlyOwner {
        revert OwnershipCannotBeRenounced();
    }

    function _updateMasterMinter(address account) private {
        if (account == address(0)) revert RoleAccountZero(MASTER_MINTER_ROLE);
        _masterMinter = account;
        emit MasterMinterChanged(account);
    }

    function _updatePauser(address account) private {
        if (account == address(0)) revert RoleAccountZero(PAUSER_ROLE);
        _pauser = account;
        emit PauserChanged(account);
    }

    function _updateBlocklister(address account) private {
        if (account == address(0)) revert RoleAccountZero(BLOCKLISTER_ROLE);
        _blocklister = account;
        emit BlocklisterChanged(account);
    }

    function _updateRescuer(address account) private {
        if (account == address(0)) revert RoleAccountZero(RESCUER_ROLE);
        _rescuer = account;
        emit RescuerChanged(account);
    }
}
